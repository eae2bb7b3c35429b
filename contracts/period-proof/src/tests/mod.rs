mod admin;
mod disputes;
mod inclusion;
mod mock_usage_proof;
mod proving;
mod suite;
