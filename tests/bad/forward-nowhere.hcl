# The service is scaled to zero, so the forward has no backends anywhere.

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

service "legacy-soap" {
  workload = "Deployment"
  replicas = 0
  image    = "registry.corp.internal/legacy/soap-gateway:1.0.9"
  ports    = { http = 8080 }

  placement {
    clusters = [cluster.web]
  }
}

forward "legacy-soap" { # expect: error forward::nowhere
  to      = service.legacy-soap
  port    = 8080
  sources = ["10.0.0.0/8"]
}
