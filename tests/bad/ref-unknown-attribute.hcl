# `private_ips` is not an attribute of a host (`private_ip` is).

host "db" {
  instance_type = "r6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

output "db_address" {
  value = host.db.private_ips # expect: error ref::unknown
}
