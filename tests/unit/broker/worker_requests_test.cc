// The table of worker requests against the schema, both ways: a row whose ordinal names another
// method would record and decide a request as something it is not; a method without a row would
// be refused as unknown although the SDK calls it.

#include "broker/caps/worker_requests.h"

#include <gtest/gtest.h>

#include <capnp/schema.h>

#include <airlock/capnp/host.capnp.h>

#include <string>
#include <vector>

namespace airlock::broker {
namespace {

// Every interface whose capabilities the broker hands a worker with a call, besides File (which
// has no methods: its descriptor travels with the message).
std::vector<capnp::InterfaceSchema> workerFacingInterfaces() {
  return {capnp::Schema::from<rpc::Fs>(), capnp::Schema::from<rpc::Net>(),
          capnp::Schema::from<rpc::Secrets>(), capnp::Schema::from<rpc::Units>(),
          capnp::Schema::from<rpc::Log>()};
}

TEST(WorkerRequestsTest, EveryRowNamesTheMethodItsOrdinalHasInTheSchema) {
  for (const WorkerRequest* row : WORKER_REQUESTS) {
    SCOPED_TRACE(std::string(row->name));
    bool found = false;
    for (capnp::InterfaceSchema schema : workerFacingInterfaces()) {
      if (schema.getProto().getId() != row->interfaceId) continue;
      found = true;
      auto methods = schema.getMethods();
      ASSERT_LT(row->methodId, methods.size());
      std::string named = std::string(schema.getUnqualifiedName().cStr()) + "." +
                          methods[row->methodId].getProto().getName().cStr();
      EXPECT_EQ(named, row->name);
    }
    EXPECT_TRUE(found) << "the row's interface is not one the broker hands a worker";
  }
}

TEST(WorkerRequestsTest, EveryMethodAWorkerCanCallHasARow) {
  for (capnp::InterfaceSchema schema : workerFacingInterfaces()) {
    auto methods = schema.getMethods();
    for (uint16_t id = 0; id < methods.size(); ++id) {
      SCOPED_TRACE(std::string(schema.getUnqualifiedName().cStr()) + "." +
                   methods[id].getProto().getName().cStr());
      EXPECT_NE(findWorkerRequest(schema.getProto().getId(), id), nullptr);
    }
  }
}

TEST(WorkerRequestsTest, AnOrdinalPastTheSchemaOrAHostInterfaceHasNoRow) {
  auto fs = capnp::Schema::from<rpc::Fs>();
  EXPECT_EQ(findWorkerRequest(fs.getProto().getId(), fs.getMethods().size()), nullptr);
  EXPECT_EQ(findWorkerRequest(capnp::typeId<rpc::Session>(), 0), nullptr);
  EXPECT_EQ(findWorkerRequest(capnp::typeId<rpc::Worker>(), 0), nullptr)
      << "the worker's own interface is the broker's to call, not the worker's";
}

TEST(WorkerRequestsTest, EachOnePathFsOperationHasItsOwnRow) {
  for (policy::Operation op : {policy::Operation::FS_STAT, policy::Operation::FS_LIST,
                               policy::Operation::FS_MKDIR, policy::Operation::FS_UNLINK}) {
    EXPECT_EQ(fsPathRequest(op).event, policy::operationName(op));
  }
}

}  // namespace
}  // namespace airlock::broker
