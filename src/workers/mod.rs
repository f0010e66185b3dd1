//! Background loops. Each owns one concern and stops when the shutdown signal fires.

pub mod invalidation_listener;
pub mod last_use_writer;
