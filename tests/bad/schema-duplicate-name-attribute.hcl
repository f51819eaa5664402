# Distinct labels, same `name`: both services would be the Kubernetes object "api".

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

service "api-v2" { # expect: error schema::duplicate-name
  name     = "api"
  workload = "Deployment"
  replicas = 2
  image    = "registry.shop.internal/web/api:5.0.0-rc.1"

  placement {
    clusters = [cluster.web]
  }
}
