//! Fuzzes parse + resolve + check + graph on one spec file: no input may panic, hang or
//! grow memory without bound.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loader = berth_resolve::MemoryLoader { files: vec![("spec.hcl".to_string(), text.to_string())] };
    let mut sources = berth_diag::Sources::new();
    let (resolved, _) = berth_resolve::resolve(&loader, &mut sources, "spec.hcl", &berth_resolve::Inputs::default());
    if let Some(resolved) = resolved {
        let (model, _) = berth_check::check(resolved, berth_check::CheckContext { now_unix: 0 });
        let _ = berth_graph::build(&model);
    }
});
