# `namespce` for `namespace`: a misspelt optional attribute would otherwise be ignored and the
# service deployed to "default".

cluster "payments" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-pay-a", "subnet-pay-b"]

  node_pool "general" {
    instance_type = "m6i.2xlarge"
    min           = 3
    max           = 6
  }
}

service "ledger" {
  replicas = 3
  image    = "registry.pay.internal/ledger:8.1.0"
  namespce = "payments" # expect: error schema::unknown-attribute
  ports    = { grpc = 9090 }

  placement {
    clusters = [cluster.payments]
  }
}
