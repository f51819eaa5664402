# `wait_for` names a service that is not declared; berth suggests the one meant.

cluster "data" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-data-a", "subnet-data-b"]

  node_pool "general" {
    instance_type = "r6i.2xlarge"
    min           = 3
    max           = 6
  }
}

service "postgres" {
  replicas = 3
  image    = "postgres:16.4"
  ports    = { pg = 5432 }

  placement {
    clusters = [cluster.data]
  }
}

service "billing" {
  workload = "Deployment"
  replicas = 4
  image    = "registry.pay.internal/billing:6.0.2"
  wait_for = [service.postgress] # expect: error ref::unknown

  placement {
    clusters = [cluster.data]
  }
}
