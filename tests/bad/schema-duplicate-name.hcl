# Two services declared under one name, e.g. after a copy and paste.

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

service "api" {
  workload = "Deployment"
  replicas = 4
  image    = "registry.shop.internal/web/api:4.0.0"

  placement {
    clusters = [cluster.web]
  }
}

service "api" { # expect: error schema::duplicate-name
  workload = "Deployment"
  replicas = 2
  image    = "registry.shop.internal/web/api-admin:4.0.0"

  placement {
    clusters = [cluster.web]
  }
}
