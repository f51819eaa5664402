# Memory limits that would overflow a 64-bit sum are still just over the host.

host "h" { # expect: error capacity::host
  instance_type = "m6i.large"
  ami           = "ami-0c0ffee0c0ffee000"
  zone          = "eu-west-1a"
}

container "big" {
  count  = 2
  image  = "registry.example.com/big:1"
  cpus   = 1
  memory = "10000Pi"
}
