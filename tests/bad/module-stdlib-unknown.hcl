# There is no stdlib module "redis"; berth lists the ones there are.

module "cache" {
  source = "stdlib/redis" # expect: error module::source
}
