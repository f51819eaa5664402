# Two forwards want port 443 on the same cluster's load balancer.

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
    internal = false
  }
}

service "shop" {
  workload = "Deployment"
  replicas = 6
  image    = "registry.shop.internal/web/shop:3.4.1"
  ports    = { https = 8443 }

  placement {
    clusters = [cluster.web]
  }
}

service "admin" {
  workload = "Deployment"
  replicas = 2
  image    = "registry.shop.internal/web/admin:3.4.1"
  ports    = { https = 9443 }

  placement {
    clusters = [cluster.web]
  }
}

forward "shop" {
  to      = service.shop
  port    = 443
  sources = ["0.0.0.0/0"]
}

forward "admin" { # expect: error forward::conflict
  to      = service.admin
  port    = 443
  sources = ["10.0.0.0/8"]
}
