# Names become Kubernetes object names and DNS labels: no capitals or underscores.

cluster "web" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-web-a", "subnet-web-b"]

  node_pool "general" {
    instance_type = "m6i.2xlarge"
    min           = 2
    max           = 4
  }
}

service "Payments_API" { # expect: error schema::name
  workload = "Deployment"
  replicas = 3
  image    = "registry.pay.internal/payments-api:2.3.0"

  placement {
    clusters = [cluster.web]
  }
}
