# A source network with host bits set: 10.20.0.1/16 is probably 10.20.0.0/16.

cluster "web" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-web-a", "subnet-web-b"]

  node_pool "general" {
    instance_type = "m6i.2xlarge"
    min           = 2
    max           = 4
  }

  load_balancer {
    internal = true
  }
}

service "intranet" {
  workload = "Deployment"
  replicas = 2
  image    = "registry.corp.internal/intranet:12.0.1"
  ports    = { http = 8080 }

  placement {
    clusters = [cluster.web]
  }
}

forward "intranet" {
  to      = service.intranet
  port    = 443
  sources = ["10.20.0.1/16"] # expect: error format::cidr
}
