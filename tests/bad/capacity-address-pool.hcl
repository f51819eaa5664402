# /28 pools hold 13 containers per network; 20 share the host's default network.

host "apps" { # expect: error capacity::address-pool
  instance_type = "m6i.8xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  docker {
    address_pool_size = 28
  }
}

container "tenant" {
  for_each = toset([for i in range(20) : format("tenant-%02d", i)])
  image    = "registry.example.internal/tenant-app:4.2.0"
  cpus     = 0.25
  memory   = "256Mi"
}
