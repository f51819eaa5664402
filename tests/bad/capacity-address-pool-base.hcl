# A /24 base cut into /26 pools gives 4 networks; the containers ask for 6.

host "shared" { # expect: error capacity::address-pool
  instance_type = "m6i.4xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"

  docker {
    address_pool_base = "172.30.0.0/24"
    address_pool_size = 26
  }
}

container "team" {
  for_each = toset(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"])
  image    = "registry.example.internal/team-portal:1.4.0"
  cpus     = 0.5
  memory   = "512Mi"
  networks = ["net-${each.key}"]
}
