# A misspelt workload kind: berth lists the allowed words and suggests the closest.

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

service "frontend" {
  workload = "Deploymnet" # expect: error schema::invalid-value
  replicas = 4
  image    = "registry.shop.internal/web/frontend:1.12.0"

  placement {
    clusters = [cluster.web]
  }
}
