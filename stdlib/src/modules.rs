//! Spec modules shipped with berth, called as `module "x" { source = "stdlib/NAME" }`.

/// One stdlib module: its name and its files (file name, text).
struct StdModule {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
}

static MODULES: &[StdModule] = &[
    StdModule { name: "kafka", files: &[("main.hcl", include_str!("../modules/kafka/main.hcl"))] },
    StdModule { name: "mongodb", files: &[("main.hcl", include_str!("../modules/mongodb/main.hcl"))] },
    StdModule { name: "zookeeper", files: &[("main.hcl", include_str!("../modules/zookeeper/main.hcl"))] },
];

/// The files of the stdlib module `name`, or None if there is no such module.
pub fn files(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    MODULES.iter().find(|m| m.name == name).map(|m| m.files)
}

/// The names of all stdlib modules, sorted.
pub fn names() -> Vec<&'static str> {
    MODULES.iter().map(|m| m.name).collect()
}
