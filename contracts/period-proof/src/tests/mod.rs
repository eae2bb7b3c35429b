mod admin;
mod disputes;
mod inclusion;
mod proving;
mod suite;
