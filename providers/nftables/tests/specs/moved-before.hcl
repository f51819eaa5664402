# Before: service "api" runs on cluster "a" only, container "app" on host "x".
# moved-after.hcl adds cluster "b" to the service and moves the container to host "y".

host "x" {
  instance_type = "m6i.large"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1a"
  address       = "10.0.1.10"
}

host "y" {
  instance_type = "m6i.large"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1b"
  address       = "10.0.2.10"
}

container "app" {
  image   = "busybox:1.36"
  cpus    = 0.5
  memory  = "64Mi"
  address = "172.20.0.10"

  placement {
    strategy = "pinned"
    hosts    = [host.x]
  }
}

forward "app" {
  to          = container.app
  port        = 8080
  target_port = 80
  sources     = ["10.30.0.0/16"]
}

cluster "a" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-a"]

  node_pool "np" {
    instance_type = "m6i.large"
    min           = 1
    max           = 1
  }
}

service "api" {
  replicas = 2
  image    = "busybox:1.36"
  ports    = { https = 8443 }

  placement {
    clusters = [cluster.a]
    strategy = "spread"
  }
}

forward "api" {
  to      = service.api
  port    = 443
  sources = ["10.0.0.0/8"]
}
