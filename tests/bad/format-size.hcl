# "1.5 GB" with a space and an SI unit berth does not take.

host "apps" {
  instance_type = "m6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "pdf-render" {
  image  = "registry.example.internal/pdf-render:1.7.2"
  cpus   = 1
  memory = "1.5 GB" # expect: error format::size
}
