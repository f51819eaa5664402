# depends_on lists objects; a host's attribute is a value, not an object.

host "db" {
  instance_type = "r6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

host "app" {
  instance_type = "m6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  depends_on    = [host.db.private_ip] # expect: error ref::kind
}
