mod admin;
mod clearing;
mod mock_usage_proof;
mod pricing;
mod requesting;
mod suite;
