#include "MLClusterHadronizationHandler.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <vector>

#include "Herwig/Hadronization/Cluster.h"
#include "ThePEG/EventRecord/Step.h"
#include "ThePEG/Interface/ClassDocumentation.h"
#include "ThePEG/Interface/Parameter.h"
#include "ThePEG/Interface/Reference.h"
#include "ThePEG/Interface/Switch.h"
#include "ThePEG/Persistency/PersistentIStream.h"
#include "ThePEG/Persistency/PersistentOStream.h"
#include "ThePEG/PDT/ParticleData.h"
#include "ThePEG/Repository/BaseRepository.h"
#include "ThePEG/Repository/EventGenerator.h"
#include "ThePEG/Repository/UseRandom.h"
#include "ThePEG/Utilities/DescribeClass.h"
#include "hadml/decayer.hpp"

using namespace hadml_herwig;
using Herwig::ClusterPtr;
using Herwig::ClusterVector;

namespace {

void collectDescendants(tPPtr p, std::set<PPtr>& all) {
  for (const auto& child : p->children()) {
    all.insert(child);
    collectDescendants(child, all);
  }
}

// The directory of the input file ThePEG is reading (its read-directory stack is protected).
struct ReadDirectory : BaseRepository {
  static std::string current() {
    return currentReadDirStack().empty() ? std::string() : currentReadDirStack().top();
  }
};

bool isPion(tcPDPtr p) { return std::abs(p->id()) == 211 || p->id() == 111; }
bool isLightQuark(tcPDPtr p) { return std::abs(p->id()) == 1 || std::abs(p->id()) == 2; }

// Adds the time of its scope to `acc` when `on` (the ReportTiming switch).
class ScopeTimer {
 public:
  ScopeTimer(bool on, double& acc) : acc_(on ? &acc : nullptr) {
    if (acc_) t0_ = std::chrono::steady_clock::now();
  }
  ~ScopeTimer() {
    if (acc_) *acc_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  ScopeTimer(const ScopeTimer&) = delete;
  ScopeTimer& operator=(const ScopeTimer&) = delete;

 private:
  double* acc_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

MLClusterHadronizationHandler::MLClusterHadronizationHandler() = default;
MLClusterHadronizationHandler::~MLClusterHadronizationHandler() = default;

template <class Ptr>
Ptr MLClusterHadronizationHandler::component(const std::string& name) const {
  // The base class keeps its components private; its (inherited) interfaces reach them.
  const InterfaceBase* ib =
      BaseRepository::FindInterface(const_ptr_cast<IBPtr>(IBPtr(const_cast<MLClusterHadronizationHandler*>(this))), name);
  const auto* ref = dynamic_cast<const ReferenceBase*>(ib);
  if (ref == nullptr) throw InitException() << fullName() << ": no reference interface '" << name << "'";
  Ptr p = dynamic_ptr_cast<Ptr>(ref->get(*this));
  if (!p) throw InitException() << fullName() << ":" << name << " is not set";
  return p;
}

std::unique_ptr<hadml::Decayer> MLClusterHadronizationHandler::openModel() const {
  if (modelFile_.empty()) {
    throw InitException() << "set " << fullName() << ":ModelFile to an exported hadml model (.onnx)"
                          << Exception::setuperror;
  }
  if (!std::ifstream(modelFile_).good()) {
    throw InitException() << fullName() << ":ModelFile: no such file '" << modelFile_ << "'"
                          << Exception::setuperror;
  }
  hadml::DecayerOptions options;
  options.intra_op_threads = threads_;
  options.onnxruntime_library = ortLibrary_;
  try {
    return std::make_unique<hadml::Decayer>(modelFile_, options);
  } catch (const hadml::OnnxRuntimeError& e) {
    throw InitException() << fullName() << ":OnnxRuntimeLibrary"
                          << (ortLibrary_.empty() ? " (not set)" : " '" + ortLibrary_ + "'") << ": " << e.what()
                          << Exception::setuperror;
  } catch (const std::exception& e) {
    throw InitException() << fullName() << ":ModelFile '" << modelFile_ << "' cannot be used: " << e.what()
                          << Exception::setuperror;
  }
}

void MLClusterHadronizationHandler::doinit() {
  Herwig::ClusterHadronizationHandler::doinit();
  if (isSoftUnderlyingEventON()) {
    throw InitException() << fullName() << ": the ML handler supports runs without the soft underlying "
                          << "event (set " << fullName() << ":UnderlyingEventHandler NULL)" << Exception::setuperror;
  }
  if (!enabled_ && !record_) return;
  // fail at read/init time, not mid-run
  resolveComponents();
  if (!enabled_) return;
  openModel();
}

// A relative path is taken from the directory of the input file that sets it (ThePEG keeps the
// directory of each file being read), or from the working directory for a command typed at the
// prompt; it is stored absolute, so the saved run works from anywhere.
std::string MLClusterHadronizationHandler::absolutePath(const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  std::filesystem::path base = ReadDirectory::current();
  std::error_code ec;
  if (base.empty() || base.is_relative()) base = std::filesystem::current_path(ec) / base;
  return (base / std::filesystem::path(path)).lexically_normal().string();
}

void MLClusterHadronizationHandler::setModelFile(std::string path) { modelFile_ = absolutePath(path); }

void MLClusterHadronizationHandler::setOnnxRuntimeLibrary(std::string path) { ortLibrary_ = absolutePath(path); }

const char* const MLClusterHadronizationHandler::kSpeciesNames[3] = {"All", "PionsOnly", "TrainingDomain"};

bool MLClusterHadronizationHandler::inDomain(const ClusterPtr& cl, tcPDPtr h1, tcPDPtr h2) const {
  if (species_ == kAll) return true;
  if (species_ == kTrainingDomain && decayer_ && decayer_->format_version() == 2) {
    return decayer_->in_domain(static_cast<int>(cl->particle(0)->id()), static_cast<int>(cl->particle(1)->id()),
                               static_cast<int>(h1->id()), static_cast<int>(h2->id()), cl->mass() / GeV);
  }
  if (!(isPion(h1) && isPion(h2))) return false;
  return species_ == kPionsOnly ||
         (isLightQuark(cl->particle(0)->dataPtr()) && isLightQuark(cl->particle(1)->dataPtr()));
}

void MLClusterHadronizationHandler::resolveComponents() {
  splitter_ = component<Herwig::PartonSplitterPtr>("PartonSplitter");
  finder_ = component<Herwig::ClusterFinderPtr>("ClusterFinder");
  reconnector_ = component<Herwig::ColourReconnectorPtr>("ColourReconnector");
  fissioner_ = component<Herwig::ClusterFissionerPtr>("ClusterFissioner");
  lightDecayer_ = component<Herwig::LightClusterDecayerPtr>("LightClusterDecayer");
  clusterDecayer_ = component<Herwig::ClusterDecayerPtr>("ClusterDecayer");
  const auto* reduceSwitch =
      dynamic_cast<const SwitchBase*>(BaseRepository::FindInterface(IBPtr(this), "ReduceToTwoComponents"));
  reduceFirst_ = reduceSwitch == nullptr || reduceSwitch->get(*this) != 0;
}

void MLClusterHadronizationHandler::doinitrun() {
  Herwig::ClusterHadronizationHandler::doinitrun();
  nML_ = nBelowThreshold_ = nInvalid_ = nSpecies_ = nBatches_ = nBadOutput_ = nDecayerErrors_ = 0;
  tDecays_ = tNetwork_ = 0;
  currentHandlerSet_ = false;
  if (enabled_ || record_) resolveComponents();
  if (enabled_) decayer_ = openModelAndRun();
  if (record_) openRecord();
}

// The record of the handler's two-body cluster decays (not those inside Herwig's partonic decays
// of heavy hadrons, which run their own ClusterDecayer): RUN.clusters beside the run's .log (the job's own
// with Herwig run -j). Format (hadml.data.decays reads it; units GeV), per accepted event
//   E <event number> <decays>
// then one line per decay, hadrons in Herwig's order (hadron i carries constituent i's flavour):
//   C <by: 0 Herwig, 1 GAN> <has a Cluster parent 0/1: fission, or redefined by ClusterFinder's
//     3 -> 2 reduction or LightClusterDecayer's reshuffling> <cluster E px py pz>
//     <constituent 1: id E px py pz isPerturbative> <constituent 2: id E px py pz isPerturbative>
//     <hadron 1: id E px py pz> <hadron 2: id E px py pz>
void MLClusterHadronizationHandler::openRecord() {
  recordPath_ = generator()->filename() + ".clusters";
  record_out_ = std::make_shared<std::ofstream>(recordPath_);
  if (!record_out_->good()) {
    throw InitException() << fullName() << ":RecordClusters: cannot write '" << recordPath_ << "'"
                          << Exception::setuperror;
  }
  *record_out_ << "# hadml cluster decays, format 1: " << generator()->runName() << "\n"
               << "# E event decays | C by fission cluster(E px py pz) q1(id E px py pz pert) "
                  "q2(id E px py pz pert) h1(id E px py pz) h2(id E px py pz); GeV\n";
  record_out_->precision(17);
  recordEvent_ = -1;
  recordLines_.clear();
  nRecorded_ = 0;
}

// Buffered per attempt: ThePEG retries a discarded attempt under the same event number, so the
// buffer is written once the generator has moved on to another event (or the run ends).
void MLClusterHadronizationHandler::recordDecay(const ClusterPtr& cl, const PPtr& h1, const PPtr& h2, bool byGAN) {
  const long event = generator()->currentEventNumber();
  if (event != recordEvent_) {  // not after newAttempt(): a decay outside handle()
    flushRecord();
    recordEvent_ = event;
  }
  std::ostringstream os;
  os.precision(17);
  auto p4 = [&os](const Lorentz5Momentum& p) {
    os << ' ' << p.e() / GeV << ' ' << p.x() / GeV << ' ' << p.y() / GeV << ' ' << p.z() / GeV;
  };
  bool fromCluster = false;
  for (const auto& parent : cl->parents()) fromCluster = fromCluster || parent->id() == ParticleID::Cluster;
  os << "C " << (byGAN ? 1 : 0) << ' ' << (fromCluster ? 1 : 0);
  p4(cl->momentum());
  for (int i = 0; i < 2; ++i) {
    os << ' ' << cl->particle(i)->id();
    p4(cl->particle(i)->momentum());
    os << ' ' << (cl->isPerturbative(i) ? 1 : 0);
  }
  for (const auto& h : {h1, h2}) {
    os << ' ' << h->id();
    p4(h->momentum());
  }
  recordLines_.push_back(os.str());
}

void MLClusterHadronizationHandler::newAttempt() {
  if (!record_) return;
  const long event = generator()->currentEventNumber();
  if (event == recordEvent_) {
    recordLines_.clear();  // a retry: the earlier attempt was discarded
  } else {
    flushRecord();  // the generator moved on: the buffered event was accepted
    recordEvent_ = event;  // every event gets its line, also one without two-body decays
  }
}

void MLClusterHadronizationHandler::flushRecord() {
  if (!record_out_ || recordEvent_ < 0) return;
  *record_out_ << "E " << recordEvent_ << ' ' << recordLines_.size() << '\n';
  for (const auto& line : recordLines_) *record_out_ << line << '\n';
  nRecorded_ += static_cast<long>(recordLines_.size());
  recordLines_.clear();
  recordEvent_ = -1;
}

// Opens the model and runs it once on fixed inputs (no random numbers): a model that opens but
// cannot run is a setup error here, not a crash in the first event, and ONNX Runtime's first-run
// allocations (its memory arena, the execution plan) are made before the event loop.
std::shared_ptr<hadml::Decayer> MLClusterHadronizationHandler::openModelAndRun() const {
  std::shared_ptr<hadml::Decayer> decayer = openModel();
  const double cluster[4] = {10.0, 1.0, 2.0, 3.0}, m[1] = {0.13957}, flip[1] = {0.25};
  const double parton1[4] = {5.0, 1.0, 1.0, 4.0};
  const std::uint8_t has[2] = {1, 0};
  const std::int32_t pid[2] = {2, -2};
  const std::vector<float> noise(decayer->noise_dim(), 0.5f);
  double h1[4], h2[4];
  hadml::DecayStatus status[1];
  try {
    if (decayer->format_version() == 2) {
      decayer->decay2(hadml::DecayInput2{1, cluster, parton1, pid, has, m, m, noise.data()},
                      hadml::DecayOutput2{h1, h2, nullptr, status});
    } else {
      decayer->decay(hadml::DecayInput{1, cluster, m, m, parton1, has, noise.data(), flip},
                     hadml::DecayOutput{h1, h2, nullptr, nullptr, status});
    }
  } catch (const std::exception& e) {
    throw InitException() << fullName() << ":ModelFile '" << modelFile_ << "' opens but does not run: " << e.what()
                          << Exception::setuperror;
  }
  return decayer;
}

void MLClusterHadronizationHandler::dofinish() {
  Herwig::ClusterHadronizationHandler::dofinish();
  currentHandlerSet_ = false;
  if (record_out_) {
    // After a completed run the generator's event number is past the last event; a run stopped
    // inside an event (too many errors, an abort) leaves that event's attempt in the buffer.
    if (recordEvent_ >= 0 && generator()->currentEventNumber() <= recordEvent_) {
      generator()->log() << "hadml: event " << recordEvent_ << " was not completed: not recorded\n";
      recordLines_.clear();
      recordEvent_ = -1;
    }
    flushRecord();
    record_out_->close();
    generator()->log() << "hadml: " << nRecorded_ << " two-body cluster decays recorded in " << recordPath_ << "\n";
    if (!*record_out_) generator()->log() << "hadml: writing " << recordPath_ << " failed\n";
    record_out_.reset();
  }
  if (!enabled_ || !decayer_) return;
  generator()->log() << "hadml: " << nML_ << " two-body cluster decays by the GAN ("
                     << decayer_->path() << "); Herwig fallbacks: " << nBelowThreshold_
                     << " below threshold, " << nInvalid_ << " invalid input, " << nSpecies_
                     << " outside the GAN's domain (Species " << kSpeciesNames[species_] << "), " << nBadOutput_ << " non-finite network output ("
                     << nDecayerErrors_ << " in failed decayer calls)\n";
  if (reportTiming_ && nBatches_ > 0) {
    generator()->log() << "hadml: timing: " << nBatches_ << " ONNX Runtime batches (one per event); "
                       << 1e6 * tDecays_ / double(nBatches_) << " us per event in the GAN's two-body decays, of which "
                       << 1e6 * tNetwork_ / double(nBatches_) << " us in the decayer (ONNX Runtime and pre/post-processing)\n";
  }
  decayer_.reset();
}

void MLClusterHadronizationHandler::handle(EventHandler& ch, const tPVector& tagged, const Hint& hint) {
  if (!enabled_ && !record_) {
    Herwig::ClusterHadronizationHandler::handle(ch, tagged, hint);
    return;
  }
  newAttempt();
  // Herwig's Cluster and PartonSplitter read their parameters from the static
  // ClusterHadronizationHandler::currentHandler(), which only the base class's handle() sets. Run
  // it on an empty parton list when that pointer is not this handler (the first attempt of a run,
  // or after another cluster handler ran): it sets the pointer and opens the step this handler then
  // fills (StepHandler::newStep() returns the same step within one handle()). Not on every
  // attempt: the step it opens copies the event record, and Trial 1 discards ~90 % of attempts
  // before they reach a step of their own (this was ~1 % of Herwig's instructions per event).
  // currentHandler() builds a default handler when the pointer is null, so it is only asked once
  // this handler has set it.
  if (!currentHandlerSet_ || Herwig::ClusterHadronizationHandler::currentHandler() != this) {
    Herwig::ClusterHadronizationHandler::handle(ch, tPVector(), hint);
    currentHandlerSet_ = true;
  }
  PVector partons(tagged.begin(), tagged.end());
  const Energy2 q02 = 1.01 * sqr(getParticleData(ParticleID::g)->constituentMass());
  for (auto& p : partons) {
    if (p->scale() < q02) p->scale(q02);
  }
  splitter_->split(partons);
  ClusterVector clusters = finder_->formClusters(partons);
  if (reduceFirst_) finder_->reduceToTwoComponents(clusters);

  const ClusterVector saved = clusters;
  tPVector finalHadrons;
  bool lightOK = false;
  for (int tries = 0; !lightOK && tries < 10; ++tries) {
    ClusterVector reconnectable, others;
    reconnectable.reserve(clusters.size());
    others.reserve(clusters.size());
    for (const auto& cl : clusters) {
      bool fromCluster = false;
      for (const auto& parent : cl->parents()) fromCluster = fromCluster || parent->id() == ParticleID::Cluster;
      (cl->numComponents() > 2 || fromCluster ? others : reconnectable).push_back(cl);
    }
    reconnector_->rearrange(reconnectable);
    // the clusters' constituents become their parents again after reconnection
    tPVector constituents;
    for (const auto& cl : reconnectable) {
      if (cl->numComponents() > 2) continue;
      constituents.push_back(cl->colParticle());
      constituents.push_back(cl->antiColParticle());
    }
    for (const auto& p : constituents) p->undecay();
    for (const auto& cl : reconnectable) {
      if (cl->numComponents() > 2) continue;
      cl->colParticle()->addChild(cl);
      cl->antiColParticle()->addChild(cl);
    }
    finder_->reduceToTwoComponents(reconnectable);
    clusters.assign(reconnectable.begin(), reconnectable.end());
    clusters.insert(clusters.end(), others.begin(), others.end());
    finalHadrons = fissioner_->fission(clusters, isSoftUnderlyingEventON());
    if (!reduceFirst_) finder_->reduceToTwoComponents(clusters);
    lightOK = lightDecayer_->decay(clusters, finalHadrons);
    if (!lightOK) {
      clusters = saved;
      for (const auto& cl : clusters) cl->undecay();
    }
  }
  if (!lightOK) throw Exception() << fullName() << ": LightClusterDecayer failed 10 times" << Exception::eventerror;

  mlDecay(clusters, finalHadrons);

  StepPtr step = newStep();
  std::set<PPtr> all;
  for (const auto& p : tagged) collectDescendants(p, all);
  for (const auto& p : all) {
    if (p->children().empty()) {
      if (p->id() == ParticleID::Cluster) {
        throw Exception() << fullName() << ": cluster in the final state" << Exception::eventerror;
      }
      step->addDecayProduct(p);
    } else {
      step->addDecayProduct(p);
      step->addIntermediate(p);
    }
  }
}

void MLClusterHadronizationHandler::mlDecay(const ClusterVector& clusters, tPVector& finalHadrons) {
  const ScopeTimer timer(reportTiming_, tDecays_);
  // per-event buffers kept between events (no allocations per event once warm)
  auto& jobs = scratch_.jobs;
  auto& fallback = scratch_.fallback;
  jobs.clear();
  fallback.clear();
  // Herwig decays every cluster (species, masses and directions as always). For the decays in
  // the GAN's domain the GAN then replaces the direction, keeping Herwig's hadrons: the species are
  // drawn once, by Herwig, so the GAN's domain takes nothing away from the species distribution,
  // and a decay the GAN cannot do stays exactly Herwig's.
  for (const auto& cl : clusters) {
    if (!(cl->isAvailable() && !cl->isStatusFinal() && cl->isReadyToDecay())) continue;
    const auto prod = clusterDecayer_->decayIntoTwoHadrons(cl);
    if (!prod.first || !prod.second) {
      throw Exception() << fullName() << ": Herwig's ClusterDecayer found no hadron pair for a cluster of mass "
                        << cl->mass() / GeV << " GeV" << Exception::eventerror;
    }
    if (enabled_ && cl->numComponents() == 2 && inDomain(cl, prod.first->dataPtr(), prod.second->dataPtr())) {
      jobs.push_back({cl, prod.first, prod.second});
    } else {
      if (enabled_) ++nSpecies_;
      fallback.push_back({cl, prod.first, prod.second});
    }
  }

  const std::size_t n = jobs.size();
  if (n > 0 && !decayer_) throw Exception() << fullName() << ": no decayer open" << Exception::abortnow;
  if (n > 0) try {
    ++nBatches_;
    const ScopeTimer networkTimer(reportTiming_, tNetwork_);
    runDecayer(n);
  } catch (const std::exception& e) {
    // the whole batch goes to Herwig's decays; the first message is logged, all are counted
    if (nDecayerErrors_ == 0) {
      generator()->log() << "hadml: the decayer failed in event " << generator()->currentEventNumber()
                         << " (" << n << " clusters decayed by Herwig instead; later failures are only counted): "
                         << e.what() << "\n";
    }
    nDecayerErrors_ += static_cast<long>(n);
    scratch_.status.assign(n, hadml::DecayStatus::invalid_output);
  }
  const auto& status = scratch_.status;
  const auto& out1 = scratch_.out1;
  const auto& out2 = scratch_.out2;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& job = jobs[i];
    if (status[i] != hadml::DecayStatus::ok) {  // Herwig's decay of this cluster stays
      if (status[i] == hadml::DecayStatus::below_threshold) ++nBelowThreshold_;
      else if (status[i] == hadml::DecayStatus::invalid_input) ++nInvalid_;
      else ++nBadOutput_;
      fallback.push_back(job);
      continue;
    }
    const double* a = &out1[4 * i];
    const double* b = &out2[4 * i];
    job.h1->set5Momentum(Lorentz5Momentum(a[1] * GeV, a[2] * GeV, a[3] * GeV, a[0] * GeV, job.h1->mass()));
    job.h2->set5Momentum(Lorentz5Momentum(b[1] * GeV, b[2] * GeV, b[3] * GeV, b[0] * GeV, job.h2->mass()));
    // the vertices Herwig's ClusterDecayer set stay: its calculatePositions does not depend on
    // the hadron momenta
    job.cluster->addChild(job.h1);
    job.cluster->addChild(job.h2);
    finalHadrons.push_back(job.h1);
    finalHadrons.push_back(job.h2);
    if (record_) recordDecay(job.cluster, job.h1, job.h2, true);
    ++nML_;
  }
  for (const auto& job : fallback) {
    job.cluster->addChild(job.h1);
    job.cluster->addChild(job.h2);
    finalHadrons.push_back(job.h1);
    finalHadrons.push_back(job.h2);
    if (record_) recordDecay(job.cluster, job.h1, job.h2, false);
  }
  // drop this event's particles now (the buffers keep their capacity)
  jobs.clear();
  fallback.clear();
}

// The decayer on the first n jobs of scratch_; noise (and format 1's flips) from Herwig's random
// generator: one seed, one set of events.
void MLClusterHadronizationHandler::runDecayer(std::size_t n) {
  auto& sc = scratch_;
  const bool two = decayer_->format_version() == 2;
  sc.c.resize(4 * n), sc.p1.resize(4 * n), sc.m1.resize(n), sc.m2.resize(n), sc.out1.resize(4 * n),
      sc.out2.resize(4 * n);
  sc.has.resize(two ? 2 * n : n), sc.pid.resize(two ? 2 * n : 0);
  sc.status.assign(n, hadml::DecayStatus::invalid_output);  // a row left unset is not used
  auto put = [](double* d, const Lorentz5Momentum& p) {
    d[0] = p.e() / GeV, d[1] = p.x() / GeV, d[2] = p.y() / GeV, d[3] = p.z() / GeV;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const auto& cl = sc.jobs[i].cluster;
    put(&sc.c[4 * i], cl->momentum());
    put(&sc.p1[4 * i], cl->particle(0)->momentum());
    sc.m1[i] = sc.jobs[i].h1->mass() / GeV;
    sc.m2[i] = sc.jobs[i].h2->mass() / GeV;
    if (two) {
      for (int k = 0; k < 2; ++k) {
        sc.pid[2 * i + k] = static_cast<std::int32_t>(cl->particle(k)->id());
        sc.has[2 * i + k] = cl->isPerturbative(k) ? 1 : 0;
      }
    } else {
      bool fromCluster = false;
      for (const auto& parent : cl->parents()) fromCluster = fromCluster || parent->id() == ParticleID::Cluster;
      sc.has[i] = fromCluster ? 0 : 1;
    }
  }
  if (two) {
    sc.noise.resize(n * decayer_->noise_dim());
    for (auto& z : sc.noise) z = static_cast<float>(UseRandom::rndGauss());
    decayer_->decay2(hadml::DecayInput2{n, sc.c.data(), sc.p1.data(), sc.pid.data(), sc.has.data(), sc.m1.data(),
                                        sc.m2.data(), sc.noise.data()},
                     hadml::DecayOutput2{sc.out1.data(), sc.out2.data(), nullptr, sc.status.data()});
    return;
  }
  decayer_->decay(
      n, sc.c.data(), sc.m1.data(), sc.m2.data(), sc.p1.data(), sc.has.data(),
      [](float* z, std::size_t k) {
        for (std::size_t j = 0; j < k; ++j) z[j] = static_cast<float>(UseRandom::rndGauss());
      },
      [](double* u, std::size_t k) {
        for (std::size_t j = 0; j < k; ++j) u[j] = UseRandom::rnd();
      },
      hadml::DecayOutput{sc.out1.data(), sc.out2.data(), nullptr, nullptr, sc.status.data()});
}

void MLClusterHadronizationHandler::persistentOutput(PersistentOStream& os) const {
  os << modelFile_ << ortLibrary_ << threads_ << enabled_ << species_ << reportTiming_ << record_;
}

void MLClusterHadronizationHandler::persistentInput(PersistentIStream& is, int) {
  is >> modelFile_ >> ortLibrary_ >> threads_ >> enabled_ >> species_ >> reportTiming_ >> record_;
}

DescribeClass<MLClusterHadronizationHandler, Herwig::ClusterHadronizationHandler>
    describeHadmlMLClusterHadronizationHandler("hadml_herwig::MLClusterHadronizationHandler", "HadmlHerwig.so");

void MLClusterHadronizationHandler::Init() {
  static ClassDocumentation<MLClusterHadronizationHandler> documentation(
      "Herwig's cluster hadronization with the two-body cluster decays from a hadml GAN (ONNX Runtime).");
  static Parameter<MLClusterHadronizationHandler, std::string> interfaceModelFile(
      "ModelFile", "The exported hadml generator (.onnx, with hadml metadata); a relative path is taken "
      "from the directory of the input file that sets it (the working directory at the prompt).",
      &MLClusterHadronizationHandler::modelFile_, "", false, false, &MLClusterHadronizationHandler::setModelFile);
  static Parameter<MLClusterHadronizationHandler, std::string> interfaceOnnxRuntimeLibrary(
      "OnnxRuntimeLibrary", "libonnxruntime to load (empty: $HADML_ONNXRUNTIME_LIBRARY, then the onnxruntime "
      "Python package installed beside hadml). 'hadml herwig run' sets it to the package's library.",
      &MLClusterHadronizationHandler::ortLibrary_, "", false, false,
      &MLClusterHadronizationHandler::setOnnxRuntimeLibrary);
  static Parameter<MLClusterHadronizationHandler, int> interfaceThreads(
      "Threads", "ONNX Runtime intra-op threads (1: no thread besides Herwig's; more also put glibc's malloc "
      "in its slower multi-threaded mode for the whole run).", &MLClusterHadronizationHandler::threads_, 1, 1, 64, false,
      false, Interface::limited);
  static Switch<MLClusterHadronizationHandler, bool> interfaceEnabled(
      "Enabled", "Use the GAN for two-body cluster decays.", &MLClusterHadronizationHandler::enabled_, true,
      false, false);
  static SwitchOption interfaceEnabledYes(interfaceEnabled, "Yes", "GAN decays", true);
  static SwitchOption interfaceEnabledNo(interfaceEnabled, "No", "Herwig's own decays", false);
  static Switch<MLClusterHadronizationHandler, int> interfaceSpecies(
      "Species", "Which two-body cluster decays the GAN does; the others are Herwig's (counted in the log).",
      &MLClusterHadronizationHandler::species_, kTrainingDomain, false, false);
  static SwitchOption interfaceSpeciesDomain(
      interfaceSpecies, "TrainingDomain",
      "the model's training domain: for a hadml-2 model the one its metadata records (constituent "
      "flavour classes, hadron species, cluster mass range); for a hadml-1 model what those are trained "
      "on (Trial 1 LEP samples): u/d (anti)quark constituents decaying into pi pi", kTrainingDomain);
  static SwitchOption interfaceSpeciesPions(interfaceSpecies, "PionsOnly",
                                            "every pi pi pair, whatever the constituents", kPionsOnly);
  static SwitchOption interfaceSpeciesAll(interfaceSpecies, "All",
                                          "every two-body cluster decay (outside the training domain too)", kAll);
  static Switch<MLClusterHadronizationHandler, bool> interfaceReportTiming(
      "ReportTiming", "Report the time spent in the GAN's decays per event in the run's log.",
      &MLClusterHadronizationHandler::reportTiming_, false, false, false);
  static SwitchOption interfaceReportTimingNo(interfaceReportTiming, "No", "no timing", false);
  static SwitchOption interfaceReportTimingYes(interfaceReportTiming, "Yes", "time the GAN's decays", true);
  static Switch<MLClusterHadronizationHandler, bool> interfaceRecordClusters(
      "RecordClusters", "Write every two-body cluster decay of this handler (Herwig's or the GAN's) with Herwig's own "
      "information (constituents, isPerturbative, fission, hadrons in Herwig's order) to RUN.clusters, "
      "beside the run's log; with Enabled No, Herwig decays every cluster (training data).",
      &MLClusterHadronizationHandler::record_, false, false, false);
  static SwitchOption interfaceRecordClustersNo(interfaceRecordClusters, "No", "no record", false);
  static SwitchOption interfaceRecordClustersYes(interfaceRecordClusters, "Yes", "write RUN.clusters", true);
}
