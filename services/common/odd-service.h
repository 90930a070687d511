/* odd-service.h: everything the four services share (libodd-service) */
#pragma once

#include "odd-contracts.h"
#include "odd-config.h"
#include "odd-log.h"
#include "odd-metrics.h"
#include "odd-http.h"
#include "odd-pg.h"
#include "odd-redis.h"
#include "odd-redelivery.h"
#include "odd-amqp.h"
#include "odd-stop-flag.h"
#include "odd-service-lifecycle.h"
#include "odd-latency-histogram.h"
