# `certificate` takes a certificate, not the issuer behind it.

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

issuer "internal" {
  type        = "ca"
  common_name = "Internal Services CA"
}

service "api" {
  workload    = "Deployment"
  replicas    = 4
  image       = "registry.shop.internal/web/api:4.0.0"
  certificate = issuer.internal # expect: error ref::kind

  placement {
    clusters = [cluster.web]
  }
}
