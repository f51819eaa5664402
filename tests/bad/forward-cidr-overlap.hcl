# 10.20.0.0/16 is already inside 10.0.0.0/8.

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

service "risk-api" {
  workload = "Deployment"
  replicas = 3
  image    = "registry.bank.internal/risk/api:2026.11.3"
  ports    = { https = 8443 }

  placement {
    clusters = [cluster.web]
  }
}

forward "risk-api" {
  to   = service.risk-api
  port = 443
  sources = [
    "10.0.0.0/8",
    "10.20.0.0/16", # expect: error forward::cidr-overlap
  ]
}
