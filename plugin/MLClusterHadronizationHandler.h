// -*- C++ -*-
// hadml::MLClusterHadronizationHandler: Herwig's cluster hadronization with the final two-body
// cluster decays done by a GAN (hadml::Decayer, ONNX Runtime).
//
// Herwig's chain runs unchanged (gluon splitting, cluster formation, colour reconnection,
// fission, light-cluster decays), driven through the components configured on this handler (the
// base class's interfaces). Only the last stage differs: every cluster that Herwig's
// ClusterDecayer would decay into two hadrons gets its hadron species from Herwig's
// HadronSelector as usual, and its decay direction from the GAN, one ONNX Runtime batch per
// event, with noise from Herwig's own random generator. Clusters the GAN cannot decay (below
// threshold, unexpected input, species excluded by `Species`) go to Herwig's own
// ClusterDecayer::decayIntoTwoHadrons; the counts are reported at the end of the run.
#ifndef HADML_MLClusterHadronizationHandler_H
#define HADML_MLClusterHadronizationHandler_H

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "Herwig/Hadronization/ClusterDecayer.h"
#include "Herwig/Hadronization/ClusterFinder.h"
#include "Herwig/Hadronization/ClusterFissioner.h"
#include "Herwig/Hadronization/ClusterHadronizationHandler.h"
#include "Herwig/Hadronization/ColourReconnector.h"
#include "Herwig/Hadronization/HadronSelector.h"
#include "Herwig/Hadronization/LightClusterDecayer.h"
#include "Herwig/Hadronization/PartonSplitter.h"

namespace hadml {
class Decayer;
enum class DecayStatus : std::uint8_t;
}

namespace hadml_herwig {

using namespace ThePEG;

class MLClusterHadronizationHandler : public Herwig::ClusterHadronizationHandler {
 public:
  MLClusterHadronizationHandler();
  ~MLClusterHadronizationHandler() override;

  void handle(EventHandler& ch, const tPVector& tagged, const Hint& hint) override;

  void persistentOutput(PersistentOStream& os) const;
  void persistentInput(PersistentIStream& is, int version);
  static void Init();

 protected:
  IBPtr clone() const override { return new_ptr(*this); }
  IBPtr fullclone() const override { return new_ptr(*this); }
  void doinit() override;
  void doinitrun() override;
  void dofinish() override;

 private:
  MLClusterHadronizationHandler& operator=(const MLClusterHadronizationHandler&) = delete;

  template <class Ptr>
  Ptr component(const std::string& owner_interface) const;
  std::unique_ptr<hadml::Decayer> openModel() const;
  std::shared_ptr<hadml::Decayer> openModelAndRun() const;  // opened and run once (setup check)
  void mlDecay(const std::vector<Herwig::ClusterPtr>& clusters, tPVector& finalHadrons);

  static std::string absolutePath(const std::string& path);
  void setModelFile(std::string path);
  void setOnnxRuntimeLibrary(std::string path);

  // configuration (persistent)
  std::string modelFile_;
  std::string ortLibrary_;
  int threads_ = 1;
  bool enabled_ = true;
  bool pionsOnly_ = false;
  bool reportTiming_ = false;
  bool record_ = false;  // RecordClusters

  // the decay record (RecordClusters)
  void openRecord();
  void newAttempt();
  void recordDecay(const Herwig::ClusterPtr& cl, const PPtr& h1, const PPtr& h2, bool byGAN);
  void flushRecord();
  std::string recordPath_;
  std::shared_ptr<std::ofstream> record_out_;  // shared: the handler is cloned
  long recordEvent_ = -1;
  std::vector<std::string> recordLines_;
  long nRecorded_ = 0;

  // run state: the decayer, and Herwig's components resolved once in doinitrun()
  void resolveComponents();
  std::shared_ptr<hadml::Decayer> decayer_;
  Herwig::PartonSplitterPtr splitter_;
  Herwig::ClusterFinderPtr finder_;
  Herwig::ColourReconnectorPtr reconnector_;
  Herwig::ClusterFissionerPtr fissioner_;
  Herwig::LightClusterDecayerPtr lightDecayer_;
  Herwig::ClusterDecayerPtr clusterDecayer_;
  Herwig::HadronSelectorPtr selector_;
  bool reduceFirst_ = true;
  bool onShell_ = true;
  struct Scratch {
    struct Job {
      Herwig::ClusterPtr cluster;
      PPtr h1, h2;
    };
    std::vector<Job> jobs;
    std::vector<Herwig::ClusterPtr> fallback;
    std::vector<double> c, p1, m1, m2, out1, out2;
    std::vector<std::uint8_t> has;
    std::vector<hadml::DecayStatus> status;
  } scratch_;  // mlDecay's per-event buffers, reused
  bool currentHandlerSet_ = false;  // this handler has set ClusterHadronizationHandler::currentHandler_
  long nML_ = 0, nBelowThreshold_ = 0, nInvalid_ = 0, nSpecies_ = 0;
  long nBadOutput_ = 0;      // non-finite network output (and clusters of failed decayer calls)
  long nDecayerErrors_ = 0;  // clusters of decayer calls that threw
  long nBatches_ = 0;       // events whose GAN decays went to ONNX Runtime
  double tDecays_ = 0;      // seconds in the GAN's two-body decays (ReportTiming)
  double tNetwork_ = 0;     // of which in the decayer (ONNX Runtime + pre/post-processing)
};

}  // namespace hadml_herwig

#endif
