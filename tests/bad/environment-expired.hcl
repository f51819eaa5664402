# The stress environment expired on Friday (the tests run on 2026-11-25): a warning, so the
# spec still builds, but `berth gc` is due.

environment "stress" { # expect: warning environment::expired
  owner       = "risk-platform@bank.internal"
  expires     = "2026-11-20T18:00:00Z"
  description = "End-to-end stress test of the last release"
}

cluster "stress" {
  version     = "1.31"
  region      = "eu-west-1"
  subnets     = ["subnet-t0-a", "subnet-t0-b"]
  max_pods    = 500
  environment = environment.stress

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 2
    max           = 4
  }
}
