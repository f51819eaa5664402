# A pinned container names exactly one host, not two.

host "edge-a" {
  instance_type = "c6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

host "edge-b" {
  instance_type = "c6i.xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1b"
}

container "envoy" {
  image  = "envoyproxy/envoy:v1.31.2"
  cpus   = 1
  memory = "512Mi"

  placement {
    strategy = "pinned"
    hosts    = [host.edge-a, host.edge-b] # expect: error placement::strategy
  }
}
