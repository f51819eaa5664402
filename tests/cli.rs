//! berth's command line behaviour.
