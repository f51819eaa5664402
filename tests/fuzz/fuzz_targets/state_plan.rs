//! Fuzz target: reading a state document and a saved plan from arbitrary bytes never panics,
//! and whatever reads back as a state or a plan writes out and reads back the same, and can be
//! planned and rendered.

#![no_main]

use berth_plan::{Plan, State, diff, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = State::parse(data) {
        assert_eq!(State::parse(&state.to_bytes()), Ok(state.clone()), "a state reads back as written");
        render(&diff(&[], &state), false);
    }
    if let Ok(plan) = Plan::parse(data) {
        assert_eq!(Plan::parse(&plan.to_json()), Ok(plan.clone()), "a plan reads back as written");
        render(&plan, true);
    }
});
