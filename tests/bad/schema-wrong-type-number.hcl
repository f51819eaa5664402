# A replica count written out in words.

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

service "search" {
  workload = "Deployment"
  replicas = "three" # expect: error schema::wrong-type
  image    = "registry.shop.internal/web/search:7.2.0"

  placement {
    clusters = [cluster.web]
  }
}
