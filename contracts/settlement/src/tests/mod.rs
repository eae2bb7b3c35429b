mod admin;
mod clearing;
mod escrow;
mod pricing;
mod requesting;
mod suite;
