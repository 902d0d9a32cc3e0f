//! The app loop: state, the pure `update` that decides, and the thin
//! executor that performs the effects and draws.

pub mod event;
pub mod run;
pub mod state;
pub mod update;
