# Every way a forward reaches a machine: DNAT to a container's address, a redirect to the
# port Docker publishes, a host without an address, SSH's port claimed by a forward, UDP,
# IPv6 sources, services on every cluster or the home one, and machines nothing reaches.

host "edge" {
  instance_type = "m6i.large"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1a"
  address       = "10.0.1.10"
  endpoint      = "tcp://10.0.1.10:2376"
}

host "plain" {
  instance_type = "m6i.large"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1b"
}

host "idle" {
  instance_type = "m6i.large"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1c"
}

container "api" {
  image   = "busybox:1.36"
  cpus    = 0.5
  memory  = "64Mi"
  address = "172.20.0.10"

  placement {
    strategy = "pinned"
    hosts    = [host.edge]
  }
}

container "dns" {
  image  = "busybox:1.36"
  cpus   = 0.5
  memory = "64Mi"
  ports  = ["5353:53/udp"]

  placement {
    strategy = "pinned"
    hosts    = [host.edge]
  }
}

container "jump" {
  image  = "busybox:1.36"
  cpus   = 0.5
  memory = "64Mi"
  ports  = ["2222:22"]

  placement {
    strategy = "pinned"
    hosts    = [host.edge]
  }
}

container "web" {
  image  = "busybox:1.36"
  cpus   = 0.5
  memory = "64Mi"
  ports  = ["8080:80"]

  placement {
    strategy = "pinned"
    hosts    = [host.plain]
  }
}

forward "api" {
  to          = container.api
  port        = 443
  target_port = 8443
  sources     = ["10.0.0.0/8", "2001:db8::/32"]
}

forward "dns" {
  to       = container.dns
  port     = 53
  protocol = "udp"
  sources  = ["192.0.2.0/24"]
}

forward "jump" {
  to      = container.jump
  port    = 22
  sources = ["198.51.100.0/24"]
}

forward "web" {
  to          = container.web
  port        = 8080
  target_port = 80
  sources     = ["10.1.0.0/16"]
}

cluster "east" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-east-a"]

  node_pool "np" {
    instance_type = "m6i.large"
    min           = 1
    max           = 1
  }
}

cluster "west" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-west-a"]

  node_pool "np" {
    instance_type = "m6i.large"
    min           = 1
    max           = 1
  }
}

cluster "spare" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-spare-a"]

  node_pool "np" {
    instance_type = "m6i.large"
    min           = 1
    max           = 1
  }
}

service "feed" {
  replicas = 2
  image    = "busybox:1.36"
  ports    = { feed = 9000 }

  placement {
    clusters = [cluster.east, cluster.west]
    strategy = "spread"
  }
}

service "admin" {
  replicas = 2
  image    = "busybox:1.36"
  ports    = { http = 8081 }

  placement {
    clusters = [cluster.east, cluster.west]
    strategy = "spread"
  }
}

forward "feed" {
  to      = service.feed
  port    = 9000
  sources = ["10.20.0.0/16", "10.40.0.0/16"]
}

forward "admin" {
  to      = service.admin
  port    = 443
  sources = ["10.9.0.0/24"]
  on      = "home"
}
