# A host's address is known only after apply, so it cannot be built into a string here.

host "db" {
  instance_type = "r6i.2xlarge"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "api" {
  image  = "registry.example.internal/api:3.1.0"
  cpus   = 1
  memory = "1Gi"
  env    = { DATABASE_URL = "postgres://api@${host.db.private_ip}:5432/api" } # expect: error eval::type
}
