mod batches;
mod committee;
mod governance;
mod leases;
mod suite;
