# The kafka module has no input `replica`: berth suggests `replicas`.

cluster "data" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-data-a", "subnet-data-b", "subnet-data-c"]

  node_pool "brokers" {
    instance_type = "r6i.2xlarge"
    min           = 3
    max           = 6
  }
}

issuer "data" {
  type        = "ca"
  common_name = "Data Platform CA"
}

module "kafka" {
  source   = "stdlib/kafka"
  clusters = [cluster.data]
  issuer   = issuer.data
  replica  = 5 # expect: error schema::unknown-attribute
}
