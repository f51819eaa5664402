# Port 70000 does not exist.

host "proxy" {
  instance_type = "c6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "haproxy" {
  image  = "haproxy:3.0"
  cpus   = 1
  memory = "512Mi"
}

forward "stats" {
  to      = container.haproxy
  port    = 70000 # expect: error format::port
  sources = ["10.0.0.0/8"]
}
