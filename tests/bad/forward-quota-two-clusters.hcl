# 51 forwards to a service land 51 listeners on its cluster's network load balancer; AWS
# allows 50 (and 100 target groups). 50 on another cluster are fine.

cluster "c" {
  for_each = toset(["busy", "full"])
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-a", "subnet-b"]

  node_pool "p" {
    instance_type = "m6i.large"
    min           = 1
    max           = 2
  }
}

service "api" {
  replicas = 2
  image    = "registry.example.com/api:1.0"
  ports    = { http = 8080 }

  placement {
    clusters = [cluster.c["busy"]]
  }
}

service "web" {
  replicas = 2
  image    = "registry.example.com/web:1.0"
  ports    = { http = 8080 }

  placement {
    clusters = [cluster.c["full"]]
  }
}

forward "port" { # expect: error forward::quota
  for_each = { for i in range(51) : format("p%02d", i) => 10000 + i }
  to       = service.api
  port     = each.value
  sources  = ["10.0.0.0/8"]
}

forward "fifty" {
  for_each = { for i in range(50) : format("q%02d", i) => 20000 + i }
  to       = service.web
  port     = each.value
  sources  = ["10.0.0.0/8"]
}
