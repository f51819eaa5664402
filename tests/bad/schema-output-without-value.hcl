# An output that forgot its value.

cluster "ops" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-ops-a", "subnet-ops-b"]
}

output "ops_endpoint" { # expect: error schema::missing-attribute
  description = "API server endpoint of the ops cluster"
}
