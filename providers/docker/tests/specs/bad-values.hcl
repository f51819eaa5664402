# Values the emitter cannot write: a fixed address that is its block's gateway, one outside
# the block its network already has, and sysctls that are not one `key = value` line.

host "edge" {
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1a"
  sysctls = {
    "vm.swappiness" = "10\n11"
    "net core"      = "1"
  }

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

container "gateway" {
  image   = "r/gw:1"
  cpus    = 0.1
  memory  = "64Mi"
  address = "10.10.0.33"
}

container "stray" {
  image   = "r/stray:1"
  cpus    = 0.1
  memory  = "64Mi"
  address = "10.10.1.5"
}
