# Fixed container addresses: the network of the first one gets the /27 block around it, the
# other networks the first free blocks of the pool base.

host "edge" {
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1a"

  docker {
    address_pool_base = "10.10.0.0/16"
    address_pool_size = 27
  }
}

container "lb" {
  image   = "r/lb:1"
  cpus    = 0.5
  memory  = "128Mi"
  address = "10.10.0.40"
}

container "api" {
  image    = "r/api:1"
  cpus     = 0.5
  memory   = "128Mi"
  networks = ["front", "back"]
}

container "worker" {
  image    = "r/worker:1"
  cpus     = 0.5
  memory   = "128Mi"
  networks = ["default", "back"]
  address  = "10.10.0.41"
}
