//! End-to-end tests of the Zhiyuan node: real nodes on loopback ports, on SQLite and on
//! PostgreSQL, driven over HTTP as clients drive them. One test binary, with a module per
//! capability.

mod described;
mod support;

mod access;
mod accounts;
mod attacks;
mod audit;
mod bad_input;
mod credentials;
mod forms;
mod keys;
mod layers;
mod lifecycle;
mod log;
mod messages;
mod plugins;
mod projects;
mod requests;
mod schema;
mod service;
mod stats;
mod teams;
mod tenants;
mod transfers;
mod upgrade;
mod volunteers;
mod witness;
