//! What berth ships alongside the compiler: data and spec modules that specs can rely on.
//!
//! [`catalogue`] holds the EC2 instance-type figures (vCPUs, memory, network interfaces, local
//! disks, EBS and network limits) that berth's capacity checks use.

pub mod catalogue;
pub mod modules;
