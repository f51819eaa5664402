# Two hosts: h1 with two volumes for balancing, h2 without volumes and with journald logging.

host "h1" {
  instance_type = "m6i.2xlarge"
  ami           = "ami-1"
  zone          = "eu-west-1a"
  sysctls = {
    "net.core.somaxconn" = "4096"
    "vm.swappiness"      = "10"
  }

  volume "fast" {
    type   = "io2"
    size   = "500Gi"
    iops   = 20000
    device = "/dev/sdf"
    mount  = "/mnt/fast"
  }

  volume "slow" {
    size        = "1000Gi"
    iops        = 10000
    device      = "/dev/sdg"
    mount       = "/mnt/slow/"
    filesystem  = "ext4"
    iops_demand = 500
  }

  docker {
    log_max_size = "10m"
    log_max_file = 3
  }
}

host "h2" {
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1b"

  docker {
    log_driver        = "journald"
    address_pool_size = 24
  }
}

container "web" {
  image       = "nginx:1.27"
  cpus        = 0.5
  memory      = "512Mi"
  ports       = ["8080:80"]
  networks    = ["front"]
  env         = { MODE = "on", DEBUG = "true" }
  healthcheck = ["curl", "-f", "http://localhost/"]

  placement {
    strategy = "pinned"
    hosts    = [host.h1]
  }
}

container "db" {
  count       = 3
  image       = "postgres:16"
  cpus        = 2
  memory      = "2Gi"
  iops_demand = 8000
  volumes     = ["slow:/var/log/postgresql:ro"]

  placement {
    strategy = "pinned"
    hosts    = [host.h1]
  }
}

container "worker" {
  image   = "registry.example.com/worker:3"
  cpus    = 1
  memory  = "100000000"
  restart = "no"
  command = ["run", "--fast"]

  placement {
    strategy = "pinned"
    hosts    = [host.h2]
  }
}
