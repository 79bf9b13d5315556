//! Integration tests: the built binary against a scripted fake terraform.
//! Real terraform with the stand-in provider is exercised by `checks/e2e`.
mod apply;
mod common;
mod descriptors;
mod error_hints;
mod failure;
mod fuzz;
mod inputs;
mod layers;
mod locking;
mod other_users;
mod remote_backend;
mod special_files;
mod state_commands;
mod status;
mod status_devices;
mod status_key_files;
mod survival;
