//! The app loop: state, the pure `update` that decides, and the thin
//! executor that performs the effects and draws.

pub mod delivery;
pub mod editor;
pub mod event;
pub mod plan_actions;
pub mod relay_actions;
pub mod run;
pub mod run_keeper;
pub mod state;
pub mod update;
pub mod workflow;
