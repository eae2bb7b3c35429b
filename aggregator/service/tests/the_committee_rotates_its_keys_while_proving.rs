//! Committee key rotation on a live localnet while the fleet is being proven: every member
//! already holds its epoch-2 key and its operator's approved rotation; three members sign the
//! rotation through the signing service (a rotation nobody approved is refused), C1 accepts it,
//! and batches go on landing, now signed by the epoch-2 committee.

use std::time::Duration;

use serde_json::json;
use usage_aggregator::signing::{Refusal, SignRequest};
use usage_common::payload::CommitteeRotation;
use usage_devtools::committee::Net;
use usage_devtools::eventually;
use usage_signer::SigningCommittee;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committee_rotates_its_keys_while_batches_keep_landing() {
    let mut net = Net::start("usagechain-rotation-1", 4).await;
    let tenants = [
        usage_devtools::fleet::account(&net, [0x7a; 32]),
        usage_devtools::fleet::account(&net, [0x7b; 32]),
    ];
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    let next = SigningCommittee::deterministic("usagechain-localnet-epoch-2", 2, 4, 3);
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members: next.member_keys(),
    };
    for (i, c) in net.configs.iter_mut().enumerate() {
        let path = c.data_dir.with_extension("next-bls.key");
        usage_service::secret::write_key(&path, &next.members[i].to_bytes()).unwrap();
        c.next_bls_keys = vec![path];
        c.approved_rotation = Some(rotation.clone());
    }
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.start_fleet();
    eventually(Duration::from_secs(60), "batches of epoch 1", || async {
        net.batches().await.iter().any(|b| b.epoch == 1)
    })
    .await;

    // A rotation the operators did not approve is refused; the approved one is signed.
    let unapproved = CommitteeRotation {
        threshold: 4,
        ..rotation.clone()
    };
    let (status, refusal) = usage_aggregator::signing::ask(
        &reqwest::Client::new(),
        &format!("http://{}", net.configs[0].listen),
        &usage_devtools::committee::relayer(),
        &net.info().chain_id,
        0,
        &SignRequest::CommitteeRotation {
            rotation: unapproved,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(status, 409);
    assert_eq!(refusal.error, Refusal::Mismatch);

    let signature = usage_devtools::committee::collect_quorum(
        &net,
        &SignRequest::CommitteeRotation {
            rotation: rotation.clone(),
        },
    )
    .await
    .expect("three epoch-1 partials");
    let out = net
        .client
        .execute(
            &net.contract("usage-proof"),
            &json!({"rotate_committee": {"rotation": rotation, "signature": signature}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "rotation: {}", out.log);
    let rotated_at = out.height;

    // Batches keep landing, signed by the new committee.
    eventually(Duration::from_secs(60), "batches of epoch 2", || async {
        net.batches().await.iter().filter(|b| b.epoch == 2).count() >= 2
    })
    .await;
    let stale: Vec<_> = net
        .batches()
        .await
        .into_iter()
        .filter(|b| b.height > rotated_at && b.epoch != 2)
        .collect();
    assert!(
        stale.is_empty(),
        "batches of the old epoch after the rotation: {stale:?}"
    );
}
