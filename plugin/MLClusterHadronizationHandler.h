// -*- C++ -*-
// hadml::MLClusterHadronizationHandler: Herwig's cluster hadronization with the final two-body
// cluster decays done by a GAN (hadml::Decayer, ONNX Runtime).
//
// Herwig's chain runs unchanged (gluon splitting, cluster formation, colour reconnection,
// fission, light-cluster decays), driven through the components configured on this handler (the
// base class's interfaces). Only the last stage differs: Herwig's ClusterDecayer decays every
// cluster into two hadrons as usual (one species draw), and for the decays inside the GAN's
// domain (`Species`) the GAN replaces the direction, one ONNX Runtime batch per event, with noise
// from Herwig's own random generator. Decays the GAN cannot do (below threshold, unexpected input,
// non-finite output) stay Herwig's; the counts are reported at the end of the run.
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
  void runDecayer(std::size_t n);  // the decayer on the first n jobs (format 1 or 2), into scratch_

  static std::string absolutePath(const std::string& path);
  void setModelFile(std::string path);
  void setOnnxRuntimeLibrary(std::string path);

  // configuration (persistent)
  std::string modelFile_;
  std::string ortLibrary_;
  int threads_ = 1;
  bool enabled_ = true;
  // Species: which two-body decays the GAN does (the rest are Herwig's). TrainingDomain: a
  // hadml-2 model's own recorded domain (constituent flavours, hadron species, mass range); for a
  // hadml-1 model (no domain in its metadata) u/d constituents decaying into pi pi.
  enum { kAll = 0, kPionsOnly = 1, kTrainingDomain = 2 };
  static const char* const kSpeciesNames[3];
  int species_ = kTrainingDomain;
  bool inDomain(const Herwig::ClusterPtr& cl, tcPDPtr h1, tcPDPtr h2) const;
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
  bool reduceFirst_ = true;
  struct Scratch {
    struct Job {
      Herwig::ClusterPtr cluster;
      PPtr h1, h2;
    };
    std::vector<Job> jobs;      // Herwig's decays whose direction the GAN replaces
    std::vector<Job> fallback;  // Herwig's decays kept as they are
    std::vector<double> c, p1, m1, m2, out1, out2;
    std::vector<std::uint8_t> has;   // format 1: has-partons flag; format 2: isPerturbative (n x 2)
    std::vector<std::int32_t> pid;   // format 2: constituent ids (n x 2)
    std::vector<float> noise;        // format 2: n x noise_dim from Herwig's generator
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
