# A tag cannot hold a '+': this one was made from a branch name.

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

service "preview" {
  workload = "Deployment"
  replicas = 1
  image    = "registry.shop.internal/web/storefront:feature+new-cart" # expect: error format::image

  placement {
    clusters = [cluster.web]
  }
}
