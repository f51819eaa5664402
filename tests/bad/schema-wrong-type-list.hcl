# One subnet given as a string where the cluster takes a list.

cluster "ops" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = "subnet-ops-a" # expect: error schema::wrong-type
}
