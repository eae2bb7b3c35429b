mod admin;
mod clearing;
mod pricing;
mod requesting;
mod suite;
