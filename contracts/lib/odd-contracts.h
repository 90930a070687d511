/* odd-contracts.h: the contract library (schemas, validation, envelopes, ids)
 *
 * One include for users of libodd-contracts.
 */
#pragma once

#include "odd-ids.h"
#include "odd-json.h"
#include "odd-schema.h"
#include "odd-schema-compat.h"
#include "odd-envelope.h"
